"""The torch reference of each neuron's dynamics: the readable definitions every fused backend
is held to, with the state and constants they share. Nothing here imports a layer, a kernel or
the backend dispatcher, so all of them can import it."""
