"""Procedural task generators: params -> Problem, seeded."""
