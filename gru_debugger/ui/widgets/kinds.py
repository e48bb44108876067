"""What a tensor holds decides its colour map and, where known, its levels.

Plain strings (no Qt here), so page and spec code can name them without
importing the theme."""
SIGNED = "signed"      # weights, pre-activations, gradients, updates: diverging, centred at 0
UNIT = "unit"          # sigmoid gates and probabilities: sequential, [0, 1]
TANH = "tanh"          # candidate and hidden state: diverging, [-1, 1]
POSITIVE = "positive"  # losses, dropout multipliers: sequential, [0, max]
