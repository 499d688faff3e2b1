"""Gradient methods behind one interface (``core/method.py``): ``method=bptt|ratebp|onestep|hm2bp``,
each in its own room, listed in ``core/catalog.py``."""
