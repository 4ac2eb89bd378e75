"""Influence stage: per-example difficulty scores, a registry (:mod:`.scores`: EL2N,
GraNd, forgetting, never learned, final loss, agreement, modal confidence, margin)."""
