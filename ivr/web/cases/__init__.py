"""Card cases (``/cases``): the counter's steps on loss reports, as forms and as JSON."""
