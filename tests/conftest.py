"""Fixtures shared by several test files."""

import pytest


@pytest.fixture
def one_torch_thread():
    """Two torch threads on a busy 2-core machine are many times slower than one."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
