"""Spiking neurons (LIF, CUBA) and their multi-step backends; each layer is a
``core.spiking.SpikingModule``, whose state the framework resets."""
