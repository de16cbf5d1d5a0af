"""Pure domain logic: models, events, the state reducer, priority, the DAG and the scheduler."""
