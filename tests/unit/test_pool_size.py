"""Each worker's connection pool is its share of one connection budget."""

from __future__ import annotations

from piksend.settings import db_pool_size


def test_one_worker_gets_the_whole_default_budget():
    assert db_pool_size({}) == 40


def test_workers_share_the_budget():
    assert db_pool_size({"PIKSEND_WORKERS": "4", "PIKSEND_DB_MAX_CONNECTIONS": "40"}) == 10


def test_a_pool_never_drops_below_two_connections():
    assert db_pool_size({"PIKSEND_WORKERS": "64", "PIKSEND_DB_MAX_CONNECTIONS": "40"}) == 2


def test_an_explicit_pool_size_wins():
    assert db_pool_size({"PIKSEND_DB_POOL_SIZE": "7", "PIKSEND_WORKERS": "4"}) == 7
