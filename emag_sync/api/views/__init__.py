"""Views of the API. Each validates its input, calls one service or selector, and shapes the
answer with an output serializer; none of them touches the ORM itself.
"""
