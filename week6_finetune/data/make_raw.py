"""Make week 6's support-ticket data: a messy raw export and a clean, held-out test set.

Run from anywhere: `python week6_finetune/data/make_raw.py` (seeded: the same files every time).

The task: route a customer-support ticket to one of five queues
("billing", "technical", "account", "shipping", "returns"). Why this task: the answer is one short
word (cheap to train and to score), the label depends on the meaning of the text rather than on one
keyword (tickets often mention two topics), and a 135M model learns it with LoRA on a laptop CPU.

The raw export (`raw_tickets.jsonl`) imitates what a helpdesk export looks like: duplicated tickets
(exact and re-submitted with different spacing/case), missing fields, labels spelt in a dozen ways
("Billing ", "billing_issue", "TECH"), outliers (a pasted 5,000-character log, an order value of
9,999,999), and a few broken lines. The test set (`test.jsonl`) is written clean, from a separate
seed, with no text shared with the raw export: it is never used for training or for choices.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
LABELS = ["billing", "technical", "account", "shipping", "returns"]

PRODUCTS = ["wireless headphones", "standing desk", "coffee grinder", "yoga mat", "smart watch",
            "phone case", "desk lamp", "backpack", "blender", "gaming mouse", "kettle", "monitor arm",
            "running shoes", "air purifier", "e-reader", "bluetooth speaker"]
DEVICES = ["iPhone", "Android phone", "Windows laptop", "MacBook", "iPad", "Chromebook"]
CARRIERS = ["UPS", "DHL", "FedEx", "the postal service", "your courier"]

# Each category: openings that carry the signal, and details that vary it. Some details name a
# second topic on purpose (a refund is money, but a return starts it), so one keyword is not enough.
TEMPLATES = {
    "billing": [
        "I was charged twice for order {order}. Please refund the duplicate payment of ${amount}.",
        "My invoice for {month} shows ${amount} but my plan costs less. Can you check the billing?",
        "The card ending in {card} was declined although it has funds. How do I pay my subscription?",
        "Why did my monthly fee go up to ${amount}? Nobody told me about a price change.",
        "I need a VAT invoice for order {order} for my company's accounts.",
        "You took ${amount} from my account after I cancelled the subscription. I want that money back.",
        "The discount code {code} was not applied at checkout, so I paid full price for the {product}.",
        "Can I change the payment method on my subscription from PayPal to a credit card?",
        "There is a pending charge of ${amount} on my bank statement that I don't recognise.",
        "I was billed for express delivery but chose free standard shipping on order {order}.",
    ],
    "technical": [
        "The app crashes every time I open it on my {device}. I already reinstalled it.",
        "My {product} won't pair over bluetooth with my {device}. The light just keeps blinking.",
        "The website shows error 500 when I click on 'My orders'. Tried two browsers.",
        "The firmware update for the {product} got stuck at {percent}% and now it won't turn on.",
        "Notifications stopped working in the app after the last update on my {device}.",
        "The {product} disconnects from wifi every few minutes. How do I fix the connection?",
        "The page keeps loading forever when I try to upload a photo in the app.",
        "Sync between the {product} and the app fails with code E{errcode}.",
        "After the update, the {product} battery drains in two hours. Is this a software bug?",
        "The checkout button does nothing on my {device}; the console says a script failed to load.",
    ],
    "account": [
        "I can't log in: the password reset email never arrives at my inbox.",
        "Please change the email address on my account to my new work address.",
        "My account was locked after too many login attempts. How do I unlock it?",
        "I want to delete my account and all my personal data under GDPR.",
        "Someone else may have accessed my account; I see an order I didn't place from {city}.",
        "How do I turn on two-factor authentication for my profile?",
        "I have two accounts with different emails. Can you merge them into one?",
        "The verification code by SMS never comes, so I cannot sign in.",
        "Please update the name on my profile; it still shows my old surname.",
        "I forgot which email I used to sign up. Can you help me recover my account?",
    ],
    "shipping": [
        "My order {order} was supposed to arrive on {day} and the tracking hasn't moved for a week.",
        "The tracking number from {carrier} says 'label created' only. Where is my {product}?",
        "Can I change the delivery address for order {order}? I moved last week.",
        "The parcel was marked delivered but nothing came. My neighbours don't have it either.",
        "Do you ship the {product} to {country}, and how long does delivery take?",
        "Only one of the two boxes of order {order} arrived. When does the second come?",
        "{carrier} left a note that they could not deliver. How do I rearrange delivery?",
        "My package is stuck in customs in {country}. Do I need to pay import fees?",
        "The delivery date keeps moving; it is now {days} days late. Can you expedite it?",
        "Can I pick up order {order} at a store instead of waiting for the courier?",
    ],
    "returns": [
        "I want to return the {product}; it doesn't fit my needs. How do I get a return label?",
        "The {product} arrived broken. I'd like to send it back for a replacement.",
        "I sent the {product} back {days} days ago. When will the return be processed?",
        "Can I exchange the {product} for a different colour?",
        "Your returns portal says my order {order} is outside the return window, but it's only been {days} days.",
        "I received the wrong item, a {product} I didn't order. How do I send it back?",
        "Do I have to pay for return shipping if the {product} is faulty?",
        "The return label you emailed doesn't scan at the {carrier} drop-off point.",
        "I'd like to return a gift without the receipt. Is that possible?",
        "The {product} stopped working after a month. Is it still under the return policy?",
    ],
}
# Phrasings that appear only in the test set: a model that memorised the training templates, rather
# than learning what each queue is about, loses points here.
TEST_ONLY = {
    "billing": ["My bank shows two identical payments of ${amount} for one purchase.",
                "Could you send me a receipt with my company name for tax purposes?",
                "The renewal cost ${amount}, not the price on your website. Please correct it.",
                "I cancelled in {month} but you still charge my card every month."],
    "technical": ["The screen of the app goes blank after the splash logo on my {device}.",
                  "The {product} keeps restarting by itself since last night's software update.",
                  "I get 'something went wrong' whenever I save my settings in the app.",
                  "The {product} is not detected by my {device} even with a new cable."],
    "account": ["I changed my phone number and now I can't get the login code.",
                "Please close my profile permanently and erase what you store about me.",
                "I got an email that my password was changed, but I didn't do it.",
                "How can I rename the user on my profile page?"],
    "shipping": ["It's been {days} days and {carrier} still says 'in transit' for order {order}.",
                 "The courier came when I was at work. Can they try again tomorrow?",
                 "What does 'held at depot' mean for my {product}? When will it come?",
                 "Is express delivery available to {country}?"],
    "returns": ["I'd like to send the {product} back; it is smaller than it looked online.",
                "Please swap the {product} I got for the larger size.",
                "It has been {days} days since you received my returned {product}. Status?",
                "The {product} I unboxed was cracked. Can I ship it back to you?"],
}
OPENERS = ["", "", "", "Hi, ", "Hello team, ", "Hey, ", "Good morning. ", "URGENT: ", "Hi there! "]
CLOSERS = ["", "", "", " Thanks.", " Thank you!", " Please help asap.", " Regards, {name}",
           " This is the second time I'm writing.", " Cheers"]
SUBJECTS = {"billing": ["Charge question", "Payment", "Invoice", "Refund please", "Subscription"],
            "technical": ["App problem", "Not working", "Bug", "Error", "Help with device"],
            "account": ["Login", "Account help", "Profile", "Can't sign in", "Privacy"],
            "shipping": ["Where is my order", "Delivery", "Tracking", "Late parcel", "Shipping"],
            "returns": ["Return", "Exchange", "Broken item", "Send back", "Return label"]}
GENERIC_SUBJECTS = ["Question", "Help", "Order", "Problem", "(no subject)", "Support request"]
# How the helpdesk's agents typed each queue over the years (the raw export's label mess).
LABEL_SPELLINGS = {
    "billing": ["billing", "Billing", "Billing ", "BILLING", "billing_issue", "Payments/Billing"],
    "technical": ["technical", "Technical", "tech", "TECH", "technical support", "Tech Support "],
    "account": ["account", "Account", "acct", "account_access", "Account & Login"],
    "shipping": ["shipping", "Shipping", "delivery", "shipping/delivery", "SHIPPING "],
    "returns": ["returns", "Returns", "return", "RMA", "returns_exchanges"],
}


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        order=f"#{rng.randint(100000, 999999)}", amount=f"{rng.randint(5, 400)}.{rng.randint(0, 99):02d}",
        month=rng.choice(["January", "March", "June", "September", "October", "November"]),
        card=rng.randint(1000, 9999), code=rng.choice(["WELCOME10", "SPRING20", "VIP15", "FREESHIP"]),
        product=rng.choice(PRODUCTS), device=rng.choice(DEVICES), percent=rng.randint(10, 95),
        errcode=rng.randint(100, 999), city=rng.choice(["Lagos", "Lyon", "Osaka", "Denver", "Porto"]),
        carrier=rng.choice(CARRIERS), day=rng.choice(["Monday", "Friday", "the 3rd", "the 14th"]),
        country=rng.choice(["Canada", "Norway", "Brazil", "Japan", "Ireland"]), days=rng.randint(3, 40),
        name=rng.choice(["Ana", "Tom", "Priya", "Kenji", "Sara", "Luis"]))


def ticket(label: str, rng: random.Random, *, templates: dict = TEMPLATES) -> dict:
    """One ticket of `label`: subject + body, built from a template, an opener and a closer."""
    body = _fill(rng.choice(OPENERS) + rng.choice(templates[label]) + rng.choice(CLOSERS), rng)
    if rng.random() < 0.3:  # a second sentence from another queue: the main ask decides the label
        other = rng.choice([lab for lab in LABELS if lab != label])
        extra = _fill(rng.choice(TEMPLATES[other]), rng).split(".")[0]
        body += f" Also, unrelated: {extra[0].lower()}{extra[1:]}."
    subject = rng.choice(SUBJECTS[label] if rng.random() < 0.6 else GENERIC_SUBJECTS)
    return {"subject": subject, "body": body}


def make_raw(n: int = 420, seed: int = 6) -> list[str]:
    """Lines of the raw export: n tickets, then duplicates, gaps, outliers and broken lines mixed in."""
    rng = random.Random(seed)
    weights = [0.26, 0.24, 0.16, 0.20, 0.14]  # real queues are not balanced
    rows = []
    for i in range(n):
        label = rng.choices(LABELS, weights)[0]
        t = ticket(label, rng)
        rows.append({"ticket_id": f"T{10000 + i}", "created_at": f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}",
                     "channel": rng.choice(["email", "email", "web", "chat", "app"]),
                     "subject": t["subject"], "body": t["body"],
                     "category": rng.choice(LABEL_SPELLINGS[label]),
                     "order_value": round(rng.lognormvariate(3.8, 0.7), 2)})
    for r in rng.sample(rows, 30):                       # duplicates: exact, and re-sent with new id/spacing
        d = dict(r)
        if rng.random() < 0.5:
            d["ticket_id"] = f"T{rng.randint(20000, 29999)}"
            d["body"] = "  " + d["body"].upper() if rng.random() < 0.3 else d["body"] + "  "
        rows.insert(rng.randrange(len(rows)), d)
    for r in rng.sample(rows, 14):                       # missing fields
        field = rng.choice(["body", "category", "category", "subject", "channel"])
        r[field] = rng.choice([None, "", "N/A"]) if field != "channel" else None
        if rng.random() < 0.3:
            del r[field]
    for r in rng.sample(rows, 5):                        # outliers: absurd order values
        r["order_value"] = rng.choice([9999999.0, -50.0, 0.0])
    for r in rng.sample(rows, 3):                        # a pasted log makes a huge body
        r["body"] = r["body"] + " LOG: " + " ".join(f"[{k:04d}] DEBUG worker heartbeat ok" for k in range(160))
    for r in rng.sample(rows, 4):                        # tickets that are not in English / not tickets
        r["body"] = rng.choice(["asdfasdf", "test", ".", "Ich habe keine Rechnung erhalten."])
    lines = [json.dumps(r, ensure_ascii=False) for r in rows]
    for pos, bad in [(57, '{"ticket_id": "T_BROKEN1", "subject": "Help", "body": "cut off here'),
                     (203, 'ticket_id,subject,body,category'),
                     (377, '{"ticket_id": "T_BROKEN2", "body": "I was charged twice", "category": "billing",}')]:
        lines.insert(pos, bad)
    return lines


def make_test(n_per_label: int = 20, seed: int = 2026, avoid: set[str] = frozenset()) -> list[dict]:
    """The held-out test set: balanced, clean labels, no text that also appears in the raw export;
    half of each queue's tickets use phrasings (TEST_ONLY) that the raw export never contains."""
    rng = random.Random(seed)
    out = []
    for label in LABELS:
        made = 0
        while made < n_per_label:
            t = ticket(label, rng, templates=TEST_ONLY if made % 2 else TEMPLATES)
            text = f"{t['subject']}: {t['body']}"
            if text in avoid:
                continue
            avoid = avoid | {text}
            out.append({"text": text, "label": label})
            made += 1
    rng.shuffle(out)
    return out


def main() -> None:
    raw = make_raw()
    (HERE / "raw_tickets.jsonl").write_text("\n".join(raw) + "\n")
    seen = set()
    for line in raw:
        try:
            r = json.loads(line)
            seen.add(f"{r.get('subject')}: {r.get('body')}")
        except json.JSONDecodeError:
            pass
    test = make_test(avoid=seen)
    (HERE / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in test))
    print(f"wrote {len(raw)} raw lines and {len(test)} test rows to {HERE}")


if __name__ == "__main__":
    main()
