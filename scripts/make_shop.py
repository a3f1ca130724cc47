"""A sample shop in SQLite for `make demo`: customers, products, orders and order items with
foreign keys, NULLs, unicode, decimals and timestamps (about 200,000 rows by default)."""

from __future__ import annotations

import argparse
import random
import sqlite3
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

SCHEMA = """
CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  email VARCHAR(200) NOT NULL UNIQUE,
  name TEXT NOT NULL,
  city TEXT,
  created_at TIMESTAMP NOT NULL
);
CREATE TABLE products (
  sku VARCHAR(20) PRIMARY KEY,
  title TEXT NOT NULL,
  price DECIMAL_TEXT(12,2) NOT NULL,
  weight_kg REAL
);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  placed_at TIMESTAMP NOT NULL,
  note TEXT
);
CREATE TABLE order_items (
  order_id INTEGER NOT NULL REFERENCES orders(id),
  line INTEGER NOT NULL,
  sku VARCHAR(20) NOT NULL REFERENCES products(sku),
  quantity INTEGER NOT NULL,
  unit_price DECIMAL_TEXT(12,2) NOT NULL,
  PRIMARY KEY (order_id, line)
);
"""
NAMES = [
    "Zoë",
    "José",
    "Åsa",
    "Łukasz",
    "Søren",
    "Nguyễn",
    "李雷",
    "Amélie",
    "Olúwadámilọ́lá",
    "Ana",
]
CITIES = ["Zürich", "São Paulo", "Kraków", "東京", "Reykjavík", None, "Montréal", "İzmir"]
NOTES = [None, None, "gift 🎁", "leave at door", "fragile — handle with care", "🚚 express"]


def build(path: Path, rows: int, seed: int = 7) -> dict[str, int]:
    rng = random.Random(seed)
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    customers = max(1, rows // 10)
    products = max(1, rows // 100)
    orders = max(1, rows * 22 // 100)
    start = datetime(2024, 1, 1, 8, 0)
    db.executemany(
        "INSERT INTO customers VALUES (?, ?, ?, ?, ?)",
        (
            (
                i,
                f"customer{i}@example.com",
                f"{rng.choice(NAMES)} {i}",
                rng.choice(CITIES),
                (start + timedelta(minutes=i * 7)).isoformat(sep=" "),
            )
            for i in range(1, customers + 1)
        ),
    )
    db.executemany(
        "INSERT INTO products VALUES (?, ?, ?, ?)",
        (
            (
                f"SKU-{i:05d}",
                f"Product {i} ✓",
                str(Decimal(rng.randint(99, 99_999)) / 100),
                None if i % 7 == 0 else round(rng.uniform(0.1, 40), 3),
            )
            for i in range(1, products + 1)
        ),
    )
    db.executemany(
        "INSERT INTO orders VALUES (?, ?, ?, ?)",
        (
            (
                i,
                rng.randint(1, customers),
                (start + timedelta(seconds=i * 97, microseconds=i % 1000)).isoformat(sep=" "),
                rng.choice(NOTES),
            )
            for i in range(1, orders + 1)
        ),
    )
    items = rows - customers - products - orders
    per_order = max(1, items // orders)
    db.executemany(
        "INSERT INTO order_items VALUES (?, ?, ?, ?, ?)",
        (
            (
                order,
                line,
                f"SKU-{rng.randint(1, products):05d}",
                rng.randint(1, 9),
                str(Decimal(rng.randint(99, 99_999)) / 100),
            )
            for order in range(1, orders + 1)
            for line in range(1, per_order + 1)
        ),
    )
    db.commit()
    counts = {
        t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
        for t in ("customers", "products", "orders", "order_items")
    }
    db.close()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", type=Path)
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    counts = build(args.path, args.rows)
    total = sum(counts.values())
    print(
        f"{args.path}: {total:,} rows (" + ", ".join(f"{t} {n:,}" for t, n in counts.items()) + ")"
    )


if __name__ == "__main__":
    main()
