"""``hotline users add|list|passwd``: console accounts (supervisor, staff, auditor).

A password not given with ``--password`` is asked for twice, without echo. Passwords are stored
only as argon2 hashes. A new password ends every session of the account.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
from datetime import datetime
from typing import Any

from ivr.config import Settings
from ivr.domain.account_password import hash_password_async, password_problem
from ivr.domain.clock import stamp
from ivr.store.database import open_database, upgrade_database
from ivr.store.types import utcnow
from ivr.store.users import Accounts, Role, UserView


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("users", help="supervisor console accounts")
    commands = parser.add_subparsers(dest="users_command", required=True)
    add = commands.add_parser("add", help="add an account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--password", help="the password (asked for when not given)")
    add.set_defaults(func=run_add)
    listing = commands.add_parser("list", help="list the accounts")
    listing.set_defaults(func=run_list)
    passwd = commands.add_parser(
        "passwd", help="set a new password (lifts its log-in locks, ends its sessions)"
    )
    passwd.add_argument("name")
    passwd.add_argument("--password", help="the new password (asked for when not given)")
    passwd.set_defaults(func=run_passwd)


def _password(given: str | None) -> str:
    password = given if given is not None else getpass.getpass("password: ")
    problem = password_problem(password)
    if problem:
        raise ValueError(problem)
    if given is None and getpass.getpass("again: ") != password:
        raise ValueError("the two passwords differ")
    return password


def run_add(args: argparse.Namespace, settings: Settings) -> int:
    name = args.name.strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise ValueError("a user name is 1 to 64 characters without spaces")
    password = _password(args.password)
    asyncio.run(_add(settings, name, Role(args.role), password))
    print(f"added {name} ({args.role})")
    return 0


async def _add(settings: Settings, name: str, role: Role, password: str) -> None:
    # The first account is often the first thing made: bring the schema up to date first.
    settings.make_data_dir()
    await upgrade_database(settings.database_url)
    database = await open_database(settings.database_url)
    try:
        await Accounts(database).add_user(
            name, role, await hash_password_async(password), now=utcnow()
        )
    finally:
        await database.close()


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    now = utcnow()

    async def users() -> tuple[list[UserView], dict[str, datetime]]:
        database = await open_database(settings.database_url)
        try:
            accounts = Accounts(database)
            return await accounts.list_users(), await accounts.locked_logins(now)
        finally:
            await database.close()

    found, locks = asyncio.run(users())
    if not found:
        print("no accounts yet: hotline users add NAME --role supervisor|staff|auditor")
    for user in found:
        until = locks.get(user.username)
        lock = f" log-in locked from some address until {stamp(until)}" if until else ""
        last = stamp(user.last_login_at) or "never"
        print(f"{user.username:<20} {user.role.value:<11} last log-in {last}{lock}")
    return 0


def run_passwd(args: argparse.Namespace, settings: Settings) -> int:
    password = _password(args.password)

    async def change() -> int:
        database = await open_database(settings.database_url)
        try:
            new_hash = await hash_password_async(password)
            return await Accounts(database).set_password(args.name, new_hash)
        finally:
            await database.close()

    ended = asyncio.run(change())
    print(f"password of {args.name} changed; its log-in locks lifted, {ended} session(s) ended")
    return 0
