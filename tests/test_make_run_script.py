"""What `make run` prints last: the URL, the user and, once, the password, in a box."""

from tests.test_schedule_processes import load_run_script

run = load_run_script()


def test_the_box_shows_the_url_the_user_and_a_new_password_once():
    box = run.welcome_box(
        url="http://127.0.0.1:8000/admin/", username="admin", password="s3cret-Pass", chosen=False
    ).splitlines()

    assert box[0] == box[-1] and set(box[0]) == {"+", "-"}
    assert len({len(line) for line in box}) == 1  # every line as wide as the frame
    text = "\n".join(box)
    assert "http://127.0.0.1:8000/admin/" in text
    assert "User:      admin" in text
    assert "s3cret-Pass   (shown only this once)" in text


def test_the_box_never_repeats_a_password_chosen_in_the_environment_or_set_before():
    chosen = run.welcome_box(url="u", username="admin", password="from-env", chosen=True)
    existing = run.welcome_box(url="u", username="admin", password=None, chosen=False)

    assert "from-env" not in chosen and "DJANGO_SUPERUSER_PASSWORD" in chosen
    assert "unchanged (set when the user was created)" in existing


def test_the_metrics_folder_is_emptied_once_before_the_processes_start(tmp_path, monkeypatch):
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_4242.db").write_bytes(b"a previous run's counts")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))

    run.before_children_start()

    assert folder.is_dir()
    assert list(folder.iterdir()) == []
