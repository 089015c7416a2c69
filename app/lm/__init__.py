"""The lecture's language models (n-gram, RNN) behind one generator interface (base.py)."""
