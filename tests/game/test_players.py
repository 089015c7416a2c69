"""app/game/players.py: a claim finds its player or makes a new one, players found once are not
looked up again, and what the public sees of a player."""

import pytest
from sqlalchemy import func, select

from app.db import Player, make_engine, migrate, session_factory, transaction
from app.game.players import (
    BLANK_PLAYER,
    KnownPlayers,
    claim_player,
    existing_player_view,
    get_or_create_player,
    pseudonym,
)


@pytest.fixture
def sessions(tmp_path):
    url = f"sqlite:///{tmp_path / 'players.db'}"
    migrate(url)
    engine = make_engine(url)
    yield session_factory(engine)
    engine.dispose()


def players_in(sessions) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Player))


def test_known_players_start_afresh_past_their_limit():
    known = KnownPlayers(limit=2)
    known.add("a")
    known.add("b")
    assert "a" in known and "b" in known
    known.add("c")  # full: starts afresh rather than grow
    assert "c" in known and "a" not in known


@pytest.mark.parametrize("claimed", [None, "", "nobody-by-this-id"])
def test_a_claim_that_names_nobody_makes_a_new_player(sessions, claimed):
    known = KnownPlayers()
    with transaction(sessions) as session:
        claim = claim_player(session, claimed, known)
    assert claim.new and claim.id != claimed and len(claim.id) >= 20
    assert claim.id not in known  # made in a transaction that might have rolled back
    assert players_in(sessions) == 1


def test_a_claim_of_a_stored_player_finds_it_and_remembers_it(sessions):
    with transaction(sessions) as session:
        made = claim_player(session, None)
    known = KnownPlayers()
    with transaction(sessions) as session:
        found = claim_player(session, made.id, known)
    assert found.id == made.id and not found.new and made.id in known
    assert players_in(sessions) == 1


def test_a_new_player_made_in_a_rolled_back_transaction_is_not_kept(sessions):
    with pytest.raises(RuntimeError), transaction(sessions) as session:
        claim_player(session, None)
        raise RuntimeError("the guess failed")
    assert players_in(sessions) == 0


def test_get_or_create_player_gives_the_row_to_change(sessions):
    with transaction(sessions) as session:
        player, claim = get_or_create_player(session, None)
        player.nickname = "Celia"
    with sessions() as session:
        assert existing_player_view(session, claim.id)["nickname"] == "Celia"
        assert existing_player_view(session, "nobody") == BLANK_PLAYER
        assert existing_player_view(session, None) == BLANK_PLAYER


def test_a_player_is_shown_by_nickname_else_by_a_pseudonym_never_the_id():
    assert pseudonym("some-id", "Touchstone") == "Touchstone"
    anonymous = pseudonym("some-id", None)
    assert anonymous.startswith("anon-") and len(anonymous) == 13 and "some-id" not in anonymous
    assert pseudonym("some-id", None) == anonymous  # stable
    assert pseudonym(None, None) == ""
