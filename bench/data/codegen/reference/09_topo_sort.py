def visit(node, graph, state, order):
    if state.get(node) == "done":
        return
    if state.get(node) == "visiting":
        raise ValueError("cycle")
    state[node] = "visiting"
    for dep in sorted(graph.get(node, [])):
        visit(dep, graph, state, order)
    state[node] = "done"
    order.append(node)


def topo_sort(graph):
    order, state = [], {}
    nodes = set(graph) | {d for deps in graph.values() for d in deps}
    for node in sorted(nodes):
        visit(node, graph, state, order)
    return order
