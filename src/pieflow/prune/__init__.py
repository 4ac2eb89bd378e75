"""Prune stage: masks, scores, method specs and schedules."""
