"""The tests' local AWS: moto, plus the operations baseline calls that moto
lacks, added through moto's own backends (state per account and region)."""
