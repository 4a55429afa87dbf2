"""Calls in progress: producers push events into one live board, readers read its snapshots.

``events``: what the call runtime and the AMI bridge push. ``board``: the ``LiveBoard`` that
merges them. ``view``: the read interface the console depends on, and its database-backed form.
``fanout``: one way of telling any number of readers about changes. Nothing here imports another
part of the hotline.
"""
