"""What needs the index and the model together: the contradiction judge, explanations and
code generation. Each talks to the model through `runtime`'s typed tasks via `service`."""
