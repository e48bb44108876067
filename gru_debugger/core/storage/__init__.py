"""What the debugger reads from and writes to disk.

Session files (session), weights in and out of plain PyTorch (weights_io), the NumPy export of an
iteration (export), writing without ever leaving a half-written file (atomic_write), and configs
ready to run: one file checked against its corpus (config_load) and the shipped examples (examples).
"""
