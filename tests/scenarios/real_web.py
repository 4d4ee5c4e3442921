"""Real program 1: a web application with a leaking module-level cache.

A Flask application backed by a SQLAlchemy ORM (declarative models with
relationships, on an in-memory SQLite database), with Django pieces imported
and configured the way a shared code base does (settings, the contenttypes
and auth apps, templates, forms, validators, the ORM's query machinery) and
a YAML configuration: over 700 modules and a few thousand types.

Requests go through Flask's test client: list/detail/search endpoints
render Jinja templates and JSON; a form endpoint validates with a Django
form; an admin endpoint renders a Django template.  A "performance
optimisation" caches, per request, the SQLAlchemy session and the ORM
objects it loaded in a module-level dict that nothing ever evicts (the
leak): every cached session keeps its identity map, its loaded instances
and their relationship collections alive.  Request contexts, responses,
closed sessions and Werkzeug environments that did not leak are garbage in
cycles (gc is disabled, as for a service that disabled it to avoid pauses).
"""
import gc
gc.disable()

import os
import sys
import warnings

warnings.simplefilter("ignore")     # SQLAlchemy's Decimal-on-SQLite warning

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _realtruth  # noqa: E402

flask = _realtruth.need("flask", "python3-flask")
sqlalchemy = _realtruth.need("sqlalchemy", "python3-sqlalchemy")
django = _realtruth.need("django", "python3-django")
yaml = _realtruth.need("yaml", "python3-yaml")

from sqlalchemy import Column, ForeignKey, Integer, Numeric, String, Text, create_engine  # noqa: E402
from sqlalchemy.orm import Session, declarative_base, relationship, selectinload  # noqa: E402

from django.conf import settings  # noqa: E402

settings.configure(
    DEBUG=False,
    SECRET_KEY="real-web-scenario",
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth",
                    "django.contrib.sessions", "django.contrib.messages"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [],
                "APP_DIRS": False, "OPTIONS": {}}],
    USE_TZ=True,
)
django.setup()

import django.contrib.auth.forms  # noqa: E402,F401
import django.contrib.auth.models  # noqa: E402,F401
import django.core.validators  # noqa: E402
import django.db.models  # noqa: E402,F401
import django.http  # noqa: E402,F401
import django.urls  # noqa: E402,F401
import django.views.generic  # noqa: E402,F401
from django import forms as dforms  # noqa: E402
from django.template import engines  # noqa: E402

CONFIG = yaml.safe_load("""
service: shop
cache:
  enabled: true
  ttl: 0          # "forever"
database:
  url: sqlite://
  pool: {size: 5, recycle: 3600}
features: [search, admin, forms, export]
""")

Base = declarative_base()


class Customer(Base):
    __tablename__ = "customer"
    id = Column(Integer, primary_key=True)
    name = Column(String(80), nullable=False)
    email = Column(String(120))
    orders = relationship("Order", back_populates="customer")


class Order(Base):
    __tablename__ = "orders"
    id = Column(Integer, primary_key=True)
    customer_id = Column(ForeignKey("customer.id"))
    note = Column(Text)
    customer = relationship("Customer", back_populates="orders")
    lines = relationship("OrderLine", back_populates="order")


class Product(Base):
    __tablename__ = "product"
    id = Column(Integer, primary_key=True)
    sku = Column(String(32), unique=True)
    title = Column(String(200))
    price = Column(Numeric(10, 2))


class OrderLine(Base):
    __tablename__ = "order_line"
    id = Column(Integer, primary_key=True)
    order_id = Column(ForeignKey("orders.id"))
    product_id = Column(ForeignKey("product.id"))
    qty = Column(Integer)
    order = relationship("Order", back_populates="lines")
    product = relationship("Product")


ENGINE = create_engine(CONFIG["database"]["url"], future=True)
Base.metadata.create_all(ENGINE)


def seed():
    with Session(ENGINE) as s:
        products = [Product(sku="SKU-%05d" % i, title="Product %d" % i, price=i % 200 + 0.99)
                    for i in range(400)]
        s.add_all(products)
        for c in range(120):
            cust = Customer(name="Customer %d" % c, email="c%d@example.org" % c)
            for o in range(4):
                order = Order(note="order %d of %d" % (o, c), customer=cust)
                for k in range(3):
                    order.lines.append(OrderLine(product=products[(c * 7 + o * 3 + k) % 400], qty=k + 1))
            s.add(cust)
        s.commit()


seed()


class ContactForm(dforms.Form):
    name = dforms.CharField(max_length=80)
    email = dforms.EmailField()
    message = dforms.CharField(widget=dforms.Textarea, min_length=10)
    quantity = dforms.IntegerField(validators=[django.core.validators.MinValueValidator(1)])


ADMIN_TEMPLATE = engines["django"].from_string(
    "<h1>{{ title }}</h1><ul>{% for c in customers %}<li>{{ c.name|upper }} "
    "({{ c.orders|length }} orders)</li>{% endfor %}</ul>")

app = flask.Flask("shop")
RESPONSE_CACHE = {}         # the leak: request key -> (session, loaded objects)


def cached_session(key):
    s = Session(ENGINE)
    RESPONSE_CACHE[key] = {"session": s, "objects": []}
    return s, RESPONSE_CACHE[key]["objects"]


@app.route("/customers")
def customers():
    page = int(flask.request.args.get("page", 0))
    s, keep = cached_session(("customers", page))
    rows = (s.query(Customer).options(selectinload(Customer.orders).selectinload(Order.lines))
            .order_by(Customer.id).offset(page * 10).limit(10).all())
    keep.extend(rows)
    return flask.render_template_string(
        "{% for c in rows %}<p>{{ c.name }}: {{ c.orders|length }}</p>{% endfor %}", rows=rows)


@app.route("/customer/<int:cid>")
def customer(cid):
    s, keep = cached_session(("customer", cid))
    c = s.get(Customer, cid)
    keep.append(c)
    total = sum(float(line.product.price) * line.qty for o in c.orders for line in o.lines)
    return flask.jsonify(id=c.id, name=c.name, orders=[o.id for o in c.orders], total=total)


@app.route("/search")
def search():
    q = flask.request.args.get("q", "")
    with Session(ENGINE) as s:          # not cached: becomes garbage
        found = s.query(Product).filter(Product.title.like("%" + q + "%")).limit(20).all()
        return flask.jsonify([p.sku for p in found])


@app.route("/contact", methods=["POST"])
def contact():
    form = ContactForm(flask.request.form)
    if not form.is_valid():
        return flask.jsonify(errors=form.errors.get_json_data()), 400
    return flask.jsonify(ok=True, name=form.cleaned_data["name"])


@app.route("/admin")
def admin():
    s, keep = cached_session(("admin", flask.request.args.get("v", "")))
    rows = s.query(Customer).order_by(Customer.id).limit(15).all()
    keep.extend(rows)
    return ADMIN_TEMPLATE.render({"title": "Customers", "customers": rows})


@app.errorhandler(404)
def not_found(e):
    return flask.jsonify(error=str(e)), 404


def traffic():
    client = app.test_client()
    for i in range(12):
        client.get("/customers?page=%d" % i)
    for cid in range(1, 121):
        client.get("/customer/%d" % cid)
    for i in range(60):
        client.get("/search?q=%d" % (i * 3))
    for i in range(40):
        data = {"name": "N%d" % i, "email": "bad" if i % 3 == 0 else "n%d@example.org" % i,
                "message": "hello there %d" % i, "quantity": str(i % 4)}
        client.post("/contact", data=data)
    for i in range(10):
        client.get("/admin?v=%d" % i)
    for i in range(10):
        client.get("/nowhere/%d" % i)


traffic()
del traffic

_realtruth.run("real_web")
