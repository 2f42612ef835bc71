"""Timing: SimPy processes for the DRAM channel, buffer fills and the PE array."""
