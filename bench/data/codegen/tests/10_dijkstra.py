def check(m):
    g = {"a": [("b", 1), ("c", 4)], "b": [("c", 2), ("d", 5)], "c": [("d", 1)], "x": [("a", 1)]}
    assert m.dijkstra(g, "a") == {"a": 0, "b": 1, "c": 3, "d": 4}
    assert m.dijkstra(g, "d") == {"d": 0}
