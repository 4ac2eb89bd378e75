"""Diff stage: PIEs and the null rate of a pruned cell against its dense population."""
