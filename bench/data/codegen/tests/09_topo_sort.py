def check(m):
    assert m.topo_sort({"app": ["lib", "log"], "lib": ["log"]}) == ["log", "lib", "app"]
    assert m.topo_sort({}) == []
    try:
        m.topo_sort({"a": ["b"], "b": ["a"]})
    except ValueError:
        pass
    else:
        raise AssertionError("a cycle must raise ValueError")
