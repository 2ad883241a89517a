# English dates as the admin always showed them: ISO order, 24-hour clock (Django's English
# defaults are US month/day and a.m./p.m.). Everything else is Django's English.
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
