"""Several hotline nodes on one machine, as the field runs them on several: ``hotline cluster``.

Kamailio in front (the one SIP address: registrar, authentication, dispatcher over the Asterisk
nodes with OPTIONS probing), N nodes (each an Asterisk and a hotline process: FastAGI, AMI
bridge), one PostgreSQL, one supervisor console; each on its own loopback address. Every part is
a separate process started detached, so any one can be killed on its own (the failure tests do),
and ``hotline cluster down`` stops them all from their pid files.

``topology``: the addresses and each part's settings (pure). ``postgres``: a throwaway PostgreSQL
server. ``proxy``: Kamailio's configuration and process. ``launch``: up, down, status.
``python -m ivr.cluster proxy-config``: Kamailio's configuration alone, for nodes started
elsewhere (``docker/compose.yaml``).
"""
