"""What every page relies on and none owns: sessions, CSRF, routes and their roles, headers,
the cookie key, templating and the audit helper. Nothing here knows a page."""
