"""The flow engine: menus declared as data (``model``), one interpreter (``runner``),
load-time checks (``checks``) and drawings (``draw``). It knows nothing of Asterisk: it talks
to a ``CallPort``."""
