"""The overrides that shrink any run to a couple of batches: ``scripts/reproduce.py --smoke`` and the tests."""

SMOKE = ["trainer.max_epochs=1", "trainer.limit_batches=2", "trainer.limit_eval_batches=1", "trainer.progress=false", "logger=none"]
