"""``trial_calc`` (docs of the contract: shared/spec/trial-calc.md): ``cases`` reads the input,
dispatches each case by kind and collects the results; ``claims`` answers the ``claim`` kind."""
