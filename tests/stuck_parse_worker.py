"""A corpus parse worker whose reader hangs on files named ``stuck*`` and kills its
process on ``crash*``: the time-limit tests point ``parse_pool.PARSE_WORKER`` here."""

import os
import time

from kerasmusic.data import corpus, parse_worker


def main() -> None:
    real = corpus.read_file_pieces

    def reader(path):
        name = os.path.basename(path)
        if name.startswith("stuck"):
            time.sleep(3600)  # stopped by the parent's per-file limit
        if name.startswith("crash"):
            os._exit(3)
        return real(path)

    corpus.read_file_pieces = reader
    parse_worker.main()
