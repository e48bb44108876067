"""What a learner reads about an iteration, computed from the model's recorded numbers.

The snapshot at the cursor (the read path of every view) and the analyses it gathers: which
gradients are round-off (roundoff, precision), why a gradient vanishes (diagnosis), the gradient
check against finite differences (gradcheck), the first NaN or Inf (faults), every cell on the same
batch (compare), and the differences against a pinned baseline or the last step (baseline, step_delta).
"""
