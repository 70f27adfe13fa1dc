MAX_RETRIES = 3
CAP = 10


def retry_delays(attempts, base):
    return [min(base * 2**i, CAP) for i in range(min(attempts, MAX_RETRIES))]
