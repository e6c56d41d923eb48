#!/usr/bin/env python3
"""Generate the PDF documents of the Pedalwise demo knowledge base.

The text of every PDF lives in this file. Run it to (re)create the PDFs under
docs/:

    python3 -m venv /tmp/kbvenv && /tmp/kbvenv/bin/pip install fpdf2 pypdf
    /tmp/kbvenv/bin/python examples/demo-kb/make_pdfs.py

Only the core Helvetica font is used, so all text must be latin-1.
Each document is a list of pages; each page is a list of blocks:
    ("h", text)   section heading
    ("p", text)   paragraph
    ("li", text)  bullet item
"""

from datetime import datetime
from pathlib import Path

from fpdf import FPDF

DOCS = Path(__file__).resolve().parent / "docs"

# Fixed creation date so that re-running the script gives stable files.
CREATION_DATE = "2024-05-01T09:00:00+00:00"

PDFS = {
    # ------------------------------------------------------------------
    "policies/warranty-booklet.pdf": {
        "title": "Pedalwise Limited Warranty",
        "pages": [
            [
                ("p", "This booklet describes the limited warranty that Pedalwise B.V. gives on every "
                      "Pedalwise e-bike bought from us. The warranty comes on top of your statutory "
                      "rights as a consumer and does not limit them in any way."),
                ("h", "1. Warranty periods"),
                ("p", "The warranty starts on the day the bike is delivered to you. The following "
                      "periods apply:"),
                ("li", "Frame: 5 years."),
                ("li", "Motor, motor controller, display and wiring: 2 years."),
                ("li", "PowerPack battery: 2 years or 500 full charge cycles, whichever comes first."),
                ("li", "Other components, such as gears, suspension, wheels and brake hardware: 2 years."),
                ("li", "Paint and finish: 1 year."),
                ("h", "2. When is a battery faulty?"),
                ("p", "Every lithium-ion battery slowly loses capacity with use. Within the warranty "
                      "period we consider a PowerPack faulty if its capacity has dropped below 70% of "
                      "the original capacity. You can see the current value as battery health in the "
                      "Pedalwise Ride app. A battery with 70% or more of its capacity left is working "
                      "as intended."),
            ],
            [
                ("h", "3. What the warranty does not cover"),
                ("li", "Wear parts: tyres, inner tubes, brake pads, brake rotors, chain, cassette, "
                       "chainring, drive belt, grips and saddle cover."),
                ("li", "Damage caused by crashes, falls, misuse or overloading beyond the maximum load "
                       "of the model."),
                ("li", "Damage caused by incorrect assembly or by maintenance that was not carried out "
                       "as described in the user manual."),
                ("li", "Any bike whose motor software has been modified or whose speed limit has been "
                       "raised (derestriction). For such bikes the warranty on the motor and "
                       "electronics ends."),
                ("li", "Damage caused by batteries or chargers that are not made by Pedalwise."),
                ("li", "Battery damage caused by improper storage, such as deep discharge after storing "
                       "an empty battery for a long time. See the Battery Care Guide."),
                ("li", "Water damage caused by cleaning with a pressure washer."),
                ("li", "Commercial use, such as courier or rental work, without a Pedalwise Business "
                       "agreement."),
                ("li", "Normal ageing of the finish, such as fading in sunlight."),
            ],
            [
                ("h", "4. How to make a warranty claim"),
                ("li", "Contact Pedalwise support and tell us the frame serial number of your bike."),
                ("li", "Send your proof of purchase, a short description of the problem and photos "
                       "or a video showing it."),
                ("li", "We assess your claim within 3 business days and tell you the outcome."),
                ("li", "An approved claim is repaired at a Pedalwise Service Point, or we send you the "
                       "parts, or we collect the bike. We pay for parts, labour and shipping of "
                       "approved claims."),
                ("h", "5. Repaired and replaced parts"),
                ("p", "A part that is repaired or replaced under this warranty is covered for the rest "
                      "of the original warranty period or for 6 months, whichever is longer. "
                      "Replacing a part does not restart the warranty of the whole bike."),
                ("h", "6. Selling your bike"),
                ("p", "The warranty passes to the next owner if you transfer the bike to them through "
                      "your Pedalwise account. If the bike is sold without a transfer, the warranty "
                      "ends at the moment of the sale."),
            ],
        ],
    },
    # ------------------------------------------------------------------
    "products/user-manual-excerpts.pdf": {
        "title": "Pedalwise User Manual - Selected Chapters",
        "pages": [
            [
                ("p", "These chapters are taken from the full user manual that comes with every "
                      "Pedalwise e-bike. They apply to the Commuter C2, Trail T5, Cargo K3 and "
                      "Fold F1 unless a model is named."),
                ("h", "Chapter 2: Assembling your bike"),
                ("p", "Your bike arrives mostly assembled. Assembly takes about 20 minutes. The box "
                      "contains 4, 5 and 6 mm hex keys and a 15 mm pedal spanner; no other tools are "
                      "needed. The Fold F1 and the Cargo K3 only need the pedals to be fitted."),
                ("li", "Remove the foam protection and cut the cable ties. Take care not to cut any "
                       "brake hoses or cables."),
                ("li", "Turn the handlebar to face forward, line the stem up with the front wheel and "
                       "tighten the stem bolts evenly, in turns, to 5 Nm."),
                ("li", "Fit the pedals. The right pedal is marked R and tightens clockwise. The left "
                       "pedal is marked L, has a reverse thread and tightens anticlockwise."),
                ("li", "Check the tyre pressure (see chapter 6)."),
                ("li", "Charge the battery fully before your first ride."),
            ],
            [
                ("h", "Chapter 4: Display and controls"),
                ("p", "Press the power button for 1 second to switch the bike on or off. A short press "
                      "while the bike is on cycles through trip distance, total distance (odometer), "
                      "remaining range and the time."),
                ("p", "Use the + and - buttons to choose an assist level: Off, Eco, Tour, Sport or "
                      "Turbo. Eco gives the longest range, Turbo the most power. The motor only helps "
                      "while you pedal, and assistance stops at 25 km/h as required for pedelecs in "
                      "the EU. You can ride faster using your own power."),
                ("p", "Walk assist helps you push the bike, for example up a ramp. Hold the - button "
                      "for 2 seconds and keep holding it: the bike rolls along at up to 6 km/h. "
                      "Release the button to stop."),
                ("p", "Lights: a short press on the light button switches the lights on or off. When "
                      "the light sensor detects darkness, the lights switch on automatically."),
                ("p", "Display PIN: in the Pedalwise Ride app, go to My bike > Security > Display PIN "
                      "to choose a 6-digit PIN. It lets you unlock the digital lock from the display "
                      "when you do not have your phone."),
            ],
            [
                ("h", "Chapter 6: Care and maintenance"),
                ("p", "Check the tyre pressure every week. Ride within these ranges:"),
                ("li", "Commuter C2: 3.5 to 5.0 bar"),
                ("li", "Trail T5: 1.6 to 2.2 bar"),
                ("li", "Cargo K3: 2.5 to 4.0 bar"),
                ("li", "Fold F1: 3.0 to 4.5 bar"),
                ("p", "Clean and lubricate the chain every 300 km and after riding in the rain. The "
                      "belt of the Cargo K3 must never be oiled."),
                ("p", "Have the first inspection done after 300 km or 3 months, whichever comes first. "
                      "This first inspection is free at any Pedalwise Service Point. After that, "
                      "service the bike every 2,000 km or every 12 months."),
                ("p", "Cleaning: switch off the bike and remove the battery. Wash the bike with a "
                      "bucket of water, mild soap and a soft brush. Never use a pressure washer and "
                      "never aim a water jet at the motor, display or battery contacts."),
            ],
        ],
    },
    # ------------------------------------------------------------------
    "policies/safety-notice-sn-2024-01.pdf": {
        "title": "Safety Notice SN-2024-01: Standard Charger 4A",
        "pages": [
            [
                ("p", "Issued by Pedalwise B.V., Utrecht, the Netherlands. This is a voluntary "
                      "recall of a limited number of chargers."),
                ("h", "Which chargers are affected?"),
                ("p", "Standard Charger 4A, model number PW-CH4, with a date code from 2345 up to "
                      "and including 2406. These chargers were supplied with bikes and sold as spare "
                      "parts between November 2023 and February 2024."),
                ("p", "The date code is the four-digit number on the label on the underside of the "
                      "charger, in the format YYWW (year and week). For example, 2401 means week 1 "
                      "of 2024. Chargers with a green dot sticker next to the label have already "
                      "been checked and are safe to use."),
                ("p", "The Fast Charger 6A (PW-CH6) and Standard Chargers with other date codes are "
                      "not affected. All PowerPack batteries and bikes are safe to use."),
                ("h", "What is the problem?"),
                ("p", "A component at the mains input of the charger may overheat during charging. "
                      "This can make the housing deform and produce a burning smell, and creates a "
                      "risk of fire. We have received three reports; nobody was injured."),
                ("h", "What should I do?"),
                ("li", "Stop using the charger now and unplug it from the wall."),
                ("li", "Request a free replacement at pedalwise.example/sn-2024-01 with your order "
                       "number and the charger date code."),
                ("li", "We ship a new charger within 5 business days, with a prepaid bag to send the "
                       "old one back. Please return it within 30 days."),
                ("li", "Until the new charger arrives, any Pedalwise Service Point will charge your "
                       "battery for free."),
                ("p", "We apologise for the inconvenience. Questions about this notice can be sent "
                      "to safety@pedalwise.example."),
            ],
        ],
    },
    # ------------------------------------------------------------------
    "billing/care-plus-terms.pdf": {
        "title": "Pedalwise Care+ Terms and Conditions",
        "pages": [
            [
                ("p", "These terms describe what Pedalwise Care+ covers and how to make a claim. "
                      "Prices, payment and cancellation are described in the Care+ billing article "
                      "in our help centre."),
                ("h", "1. Who can join"),
                ("li", "The bike was bought new from Pedalwise and is registered to your account."),
                ("li", "Your main address is in a country that Pedalwise delivers to."),
                ("li", "You join within 90 days of delivery of the bike. After 90 days you can only "
                       "join after an eligibility inspection at a Pedalwise Service Point, which "
                       "costs EUR 45."),
                ("h", "2. When cover starts"),
                ("p", "Accidental damage cover, the annual service, breakdown pickup and priority "
                      "support start on the day you activate Care+. Theft cover starts 14 days "
                      "after activation."),
            ],
            [
                ("h", "3. What is covered"),
                ("p", "3.1 Theft. If your bike is stolen and not recovered within 30 days of your "
                      "police report, we replace it with a new bike of the same model, or the closest "
                      "current model. You pay an excess of EUR 250. The bike must have been locked to "
                      "a fixed object with a lock rated at least Sold Secure Gold or ART 2 stars. You "
                      "can make one theft claim per 12 months."),
                ("p", "3.2 Accidental damage. We pay for the repair of damage caused by accidents, "
                      "falls and vandalism. You pay an excess of EUR 50 per claim. You can make two "
                      "accidental damage claims per 12 months. If a repair would cost more than the "
                      "bike is worth, we replace the bike instead."),
                ("p", "3.3 Annual service. One full service per year at a Pedalwise Service Point. "
                      "Labour is included, plus wear parts worth up to EUR 30."),
                ("p", "3.4 Breakdown pickup. If your bike cannot be ridden, for example after a "
                      "puncture, we pick up you and your bike anywhere within 25 km of your home "
                      "address and bring you home or to the nearest Service Point. Two pickups per "
                      "12 months are included."),
                ("p", "3.5 Priority support. Care+ members get a call back from our support team "
                      "within 4 business hours."),
            ],
            [
                ("h", "4. What is not covered"),
                ("li", "Normal wear and tear, and cosmetic damage that does not affect how the bike works."),
                ("li", "Bikes that have been derestricted or whose motor software has been modified."),
                ("li", "Racing, competitions and bike park riding."),
                ("li", "Theft of a bike that was not locked, and theft of the battery, lights or "
                       "accessories on their own."),
                ("li", "Commercial use, such as courier or rental work."),
                ("li", "Incidents while your cover is suspended because of an unpaid fee."),
                ("li", "Incidents outside the countries Pedalwise delivers to, or during a stay abroad "
                       "of more than 90 days."),
                ("h", "5. How to claim"),
                ("li", "Start your claim in the Pedalwise Ride app under Care+ > Start a claim, within "
                       "7 days of the incident."),
                ("li", "For theft, report it to the police within 48 hours and upload the police report."),
                ("li", "For damage, upload photos of the bike and the damaged parts."),
                ("li", "We decide on your claim within 5 business days. We may ask you to send "
                       "damaged parts to us."),
                ("h", "6. Applicable law"),
                ("p", "These terms are governed by Dutch law. If you are not satisfied with how a "
                      "claim was handled, contact support first; we will review it within 10 business days."),
            ],
        ],
    },
    # ------------------------------------------------------------------
    "products/battery-care-guide.pdf": {
        "title": "PowerPack Battery Care Guide",
        "pages": [
            [
                ("p", "A PowerPack battery that is treated well keeps most of its capacity for many "
                      "years. With normal use you can expect 800 to 1,000 full charge cycles before "
                      "the capacity drops to about 70%. This guide explains how to get there."),
                ("h", "Everyday charging"),
                ("li", "You do not need to run the battery empty before charging. Partial charges "
                       "do no harm."),
                ("li", "For daily riding, keeping the charge between about 20% and 80% is kindest to "
                       "the cells. Charge to 100% before a long ride."),
                ("li", "Charge at room temperature. The battery only accepts a charge between 5 and "
                       "35 degrees Celsius."),
                ("li", "Only use Pedalwise chargers, and charge on a hard, non-flammable surface, away "
                       "from curtains and paper. Do not leave a battery charging while nobody is home."),
                ("h", "Riding in cold and heat"),
                ("p", "Below 0 degrees Celsius the range can drop by up to 30%. This is temporary. In "
                      "winter, keep the battery indoors and put it in the bike just before you ride. "
                      "In summer, do not leave the battery in a parked car in the sun."),
            ],
            [
                ("h", "Storing the battery"),
                ("p", "If you will not ride for more than 4 weeks, for example over winter:"),
                ("li", "Charge the battery to 50 to 70% (three of the five LEDs lit)."),
                ("li", "Take it out of the bike and store it indoors, in a dry place at 10 to 20 "
                       "degrees Celsius."),
                ("li", "Check it every 2 months and top it up to 50 to 70% if needed."),
                ("p", "Never store a battery empty. It keeps losing a little charge on its own and can "
                      "become deeply discharged, which damages it permanently. Damage caused by deep "
                      "discharge is not covered by the warranty."),
                ("h", "Transport and travel"),
                ("p", "Remove the battery when you carry the bike on a car rack, and transport it "
                      "inside the car. Airlines do not allow batteries of this size on board, so "
                      "PowerPacks cannot be taken on a flight."),
                ("h", "Cleaning"),
                ("p", "Wipe the battery with a damp cloth. Never submerge it or spray it with water, "
                      "and make sure the contacts are dry before you put it back."),
                ("h", "End of life and recycling"),
                ("p", "Never put a battery in household waste. Hand it in at any Pedalwise Service "
                      "Point, or ask support for a free return label. We recycle every returned "
                      "battery."),
            ],
        ],
    },
}


class KBPDF(FPDF):
    def __init__(self, doc_title: str):
        super().__init__(format="A4")
        self.doc_title = doc_title
        self.set_margins(20, 20, 20)
        self.set_auto_page_break(auto=True, margin=20)

    def footer(self):
        self.set_y(-15)
        self.set_font("Helvetica", size=8)
        self.cell(0, 8, f"Pedalwise B.V. - {self.doc_title} - page {self.page_no()}", align="C")


def write_pdf(rel_path: str, spec: dict) -> int:
    pdf = KBPDF(spec["title"])
    pdf.set_title(spec["title"])
    pdf.set_author("Pedalwise B.V.")
    pdf.set_creator("examples/demo-kb/make_pdfs.py")
    pdf.set_creation_date(datetime.fromisoformat(CREATION_DATE))
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for page_no, blocks in enumerate(spec["pages"]):
        pdf.add_page()
        if page_no == 0:
            pdf.set_font("Helvetica", style="B", size=16)
            pdf.multi_cell(width, 8, spec["title"], align="L")
            pdf.ln(4)
        for kind, text in blocks:
            text.encode("latin-1")  # fail early on characters the core font cannot show
            if kind == "h":
                pdf.ln(2)
                pdf.set_font("Helvetica", style="B", size=12)
                pdf.multi_cell(width, 6, text, align="L")
                pdf.ln(1)
            elif kind == "p":
                pdf.set_font("Helvetica", size=10.5)
                pdf.multi_cell(width, 5.5, text, align="L")
                pdf.ln(2)
            elif kind == "li":
                pdf.set_font("Helvetica", size=10.5)
                pdf.set_x(pdf.l_margin + 4)
                pdf.multi_cell(width - 4, 5.5, "- " + text, align="L")
                pdf.ln(1)
            else:
                raise ValueError(f"unknown block kind {kind!r}")
    out = DOCS / rel_path
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))
    return pdf.page_no()


def main() -> None:
    for rel_path, spec in PDFS.items():
        pages = write_pdf(rel_path, spec)
        expected = len(spec["pages"])
        if pages != expected:
            raise SystemExit(f"{rel_path}: content overflowed, {pages} pages instead of {expected}")
        print(f"wrote docs/{rel_path} ({pages} page{'s' if pages > 1 else ''})")


if __name__ == "__main__":
    main()
