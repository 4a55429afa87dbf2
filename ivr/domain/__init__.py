"""Domain rules without I/O: resident ID numbers, query passwords and lock-out, Chinese working
days, cards and loss reports. Nothing here imports the rest of the project (but ``config`` and
``resources``). The one file read is the holiday schedule, once, at start-up
(``workdays.open_calendar``); the calendar is then passed to what counts working days."""
