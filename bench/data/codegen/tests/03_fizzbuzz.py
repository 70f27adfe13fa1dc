def check(m):
    assert m.fizzbuzz(5) == ["1", "2", "Fizz", "4", "Buzz"]
    assert m.fizzbuzz(15)[-1] == "FizzBuzz"
    assert m.fizzbuzz(0) == []
