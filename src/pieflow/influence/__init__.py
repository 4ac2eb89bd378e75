"""Influence stage: per-example difficulty (EL2N, GraNd, forgetting, final loss)."""
