import gc

from assist.core.engine import Engine
from assist.service.warmup import refreeze, warm_and_freeze


def test_warm_up_loads_the_model_and_freezes_the_heap(small_engine: Engine) -> None:
    gc.unfreeze()
    refreeze()
    assert gc.get_freeze_count() == 0  # a process that never froze (tests, embedders) stays so
    try:
        warm_and_freeze(small_engine)
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # the index, the tokenizer vocabulary, the risk lists
        leftover = [object() for _ in range(100)]
        refreeze()  # after a re-index: what was created since joins the frozen part
        assert gc.get_freeze_count() > frozen
        del leftover
    finally:
        gc.unfreeze()
