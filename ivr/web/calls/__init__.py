"""The call log (``/calls``), its CSV export, one call's detail and its recordings, each page
with its JSON API; the filters they share and the conversion that makes a recording playable."""
