"""Per-frame results, skeleton topologies and stage timing: the types every layer shares."""
