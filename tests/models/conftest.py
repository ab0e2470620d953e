"""One PyTorch thread per test process: pytest-xdist already runs one worker per core."""

import torch

torch.set_num_threads(1)
