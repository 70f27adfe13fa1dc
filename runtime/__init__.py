"""The model side: worker process, wire protocol, client, backends and offload planner."""
