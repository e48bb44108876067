"""Tensor panels: declarative heatmap specs per part of the network."""
