"""The static data the generator draws from: demo logins, job topics and word lists, cities.

Kept as Python (not a JSON or TOML file): the values are typed (`Topic`, the enums of `DEMO_CLIENT_JOBS`) and
need no loader, and the module ships with the package like any other.
"""

from dataclasses import dataclass

from app.models.enums import EscrowStatus, JobStatus

# Every generated user's password (one argon2 hash serves them all).
GENERATED_PASSWORD = "password123"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    role: str
    full_name: str


DEMO_CLIENT = DemoAccount("client@example.com", "client-password", "client", "Demo Client")
DEMO_WORKER = DemoAccount("worker@example.com", "worker-password", "worker", "Demo Worker")
DEMO_ADMIN = DemoAccount("admin@example.com", "admin-password", "admin", "Demo Admin")
DEMO_ACCOUNTS = (DEMO_CLIENT, DEMO_WORKER, DEMO_ADMIN)
DEMO_ROLES = {a.email: a.role for a in DEMO_ACCOUNTS}
DEMO_WORKER_SKILLS = ("plumbing", "carpentry", "assembly", "painting", "electrical")


@dataclass(frozen=True)
class Topic:
    """What jobs of one category look like: skills, titles, description sentences, an hourly rate range (minor)."""

    skills: tuple[str, ...]
    tasks: tuple[str, ...]
    details: tuple[str, ...]
    rate: tuple[int, int]
    trade: str
    remote: bool = False


TOPICS = {
    "cleaning": Topic(
        ("deep-cleaning",),
        (
            "Deep cleaning of a {n}-room apartment",
            "Move-out cleaning for a {n}-room flat",
            "Weekly office cleaning",
            "Window cleaning for a family house",
            "Post-renovation cleaning",
            "Carpet and upholstery cleaning",
            "Spring cleaning before guests arrive",
            "Kitchen and oven deep clean",
        ),
        (
            "Eco-friendly cleaning supplies are preferred.",
            "We have a cat, so please be comfortable with pets.",
            "Keys can be picked up from the concierge.",
            "Focus on the kitchen, the bathrooms and the floors.",
            "The flat is about {m} square metres.",
        ),
        (1500, 3500),
        "cleaner",
    ),
    "moving": Topic(
        ("lifting", "driving", "assembly"),
        (
            "Help moving a {n}-room apartment",
            "Van and driver for a small move",
            "Carry a sofa up {n} floors",
            "Deliver furniture across town",
            "Office relocation helpers needed",
            "Load and unload a moving truck",
            "Assemble furniture after the move",
        ),
        (
            "There is no elevator in the building.",
            "Heavy lifting is required; the boxes are packed.",
            "A driving licence and a van are a plus.",
            "Parking is available in front of the building.",
        ),
        (1800, 4000),
        "mover",
    ),
    "handyman": Topic(
        ("plumbing", "electrical", "carpentry", "painting", "assembly"),
        (
            "Plumbing repair: leaking kitchen sink",
            "Fix a dripping bathroom tap (plumbing)",
            "Install a new shower and fix plumbing leaks",
            "Replace light switches and sockets",
            "Electrical check of an old apartment",
            "Hang shelves, mirrors and pictures",
            "Paint a {n}-room apartment",
            "Carpentry: repair a wooden door and window frames",
            "Assemble an IKEA wardrobe and a bed",
            "Connect a washing machine (plumbing and electrical)",
        ),
        (
            "Tools are available on site.",
            "Please bring your own tools.",
            "Photos of the problem can be shared in advance.",
            "The building is from the 1950s and the pipes are old.",
        ),
        (2500, 7000),
        "handyman",
    ),
    "gardening": Topic(
        ("lawn-care", "lifting"),
        (
            "Garden maintenance and lawn mowing",
            "Trim hedges and tidy up the garden",
            "Plant a vegetable garden",
            "Autumn leaf removal in the garden",
            "Lawn care for a {m} m2 garden",
            "Design and plant a small balcony garden",
            "Prune the fruit trees in the back garden",
        ),
        (
            "Green waste must be taken away.",
            "A lawn mower and garden tools are available.",
            "The garden is about {m} square metres.",
            "Regular weekly garden work is possible.",
        ),
        (1500, 4000),
        "gardener",
    ),
    "software": Topic(
        ("python", "javascript", "sql", "react"),
        (
            "Python script to automate Excel reports",
            "Build a REST API in Python with FastAPI",
            "Fix bugs in a React web app",
            "SQL query optimisation for a reporting database",
            "Python web scraper for product prices",
            "JavaScript front end for a booking form",
            "Data analysis in Python with pandas",
            "Migrate a Django app to PostgreSQL",
            "Write unit tests for a Python library",
        ),
        (
            "The code is on GitHub; access will be shared.",
            "Please include examples of similar work.",
            "Remote work is fine; we meet weekly on video.",
            "Clean, documented code with tests is expected.",
        ),
        (4000, 15000),
        "software developer",
        remote=True,
    ),
    "design": Topic(
        ("figma", "illustration", "photography"),
        (
            "Logo design for a small bakery",
            "Figma mockups for a mobile app",
            "Illustrations for a children's book",
            "Product photography for an online shop",
            "Redesign of a restaurant menu",
            "Social media graphics for a product launch",
        ),
        (
            "A short brief and brand colours are ready.",
            "Two rounds of revisions are included.",
            "Please share a link to your portfolio.",
        ),
        (3500, 12000),
        "designer",
        remote=True,
    ),
    "writing": Topic(
        ("copywriting", "translation", "english"),
        (
            "Copywriting for a landing page",
            "Translate a website from German to English",
            "Proofread a {n}0-page English thesis",
            "Blog posts about sustainable gardening",
            "Product descriptions for an online store",
            "Translation of legal documents from Spanish to English",
        ),
        (
            "Native-level English is required.",
            "The texts are about {m}00 words in total.",
            "SEO experience is a plus.",
        ),
        (2500, 8000),
        "writer and translator",
        remote=True,
    ),
    "tutoring": Topic(
        ("math", "english", "python"),
        (
            "Math tutoring for a high-school student",
            "English conversation lessons",
            "Python programming lessons for beginners",
            "Exam preparation in mathematics",
            "Homework help twice a week",
        ),
        (
            "Lessons can be online or at our home.",
            "The student is {n}5 years old.",
            "Two sessions a week, about an hour each.",
        ),
        (2000, 6000),
        "tutor",
        remote=True,
    ),
    "events": Topic(
        ("bartending", "catering", "photography"),
        (
            "Bartender for a wedding with {m} guests",
            "Catering staff for a company party",
            "Event photography for a birthday party",
            "Waiters for a garden party",
            "Set up and tidy up after a conference",
        ),
        (
            "Black clothing is expected.",
            "The event runs from 6 pm to midnight.",
            "Food and drinks are provided for the staff.",
        ),
        (1500, 4000),
        "event professional",
    ),
    "care": Topic(
        ("pet-sitting", "elder-care"),
        (
            "Pet sitting while we are on holiday",
            "Dog walking twice a day",
            "Companion for an elderly lady",
            "Elder care assistance on weekends",
            "Cat sitting for {n} days",
            "Babysitter for two kids on Friday evenings",
        ),
        (
            "References from previous families are appreciated.",
            "Our dog is friendly but very energetic.",
            "First-aid training is a plus.",
        ),
        (1500, 3500),
        "carer",
    ),
}
GENERAL_DETAILS = (
    "Please describe your experience in your application.",
    "The start date is flexible.",
    "Payment goes through the platform's escrow.",
    "Reviews from previous clients are appreciated.",
    "Questions are welcome before you apply.",
)
TITLE_SUFFIXES = (" - urgent", " this weekend", " (ongoing)", " next week")
COVER_LETTERS = (
    "",
    "Hi! I have {y} years of experience with this kind of work and can start {when}.",
    "Hello, I am available {when} and have all the tools needed.",
    "I did very similar jobs recently and am happy to share references.",
    "Reliable and punctual; I can start {when}. Looking forward to hearing from you.",
    "This is exactly my field ({y} years). Happy to discuss the details.",
)
WHEN = ("tomorrow", "this week", "next Monday", "on the weekend", "right away")
REVIEW_COMMENTS = {
    5: ("Excellent work, highly recommended!", "Fast, friendly and very professional.", "Perfect result.", ""),
    4: ("Good job, would hire again.", "Solid work and good communication.", "Very good overall.", ""),
    3: ("Okay, but it took longer than agreed.", "Decent result, some details missed.", ""),
    2: ("Not very reliable; came late twice.", "The result needed rework.", ""),
    1: ("Did not finish the job.", "Very disappointing experience.", ""),
}
CLIENT_HEADLINES = ("Homeowner", "Small business owner", "Startup founder", "Property manager", "Busy parent")
FIRST_NAMES = (
    "Anna", "Ben", "Carla", "David", "Elena", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Karin", "Leo", "Maria",
    "Noah", "Olivia", "Paul", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera", "Will", "Yara", "Zoe", "Amir", "Chloe",
    "Diego", "Emma", "Farah", "Hannah", "Ivan", "Julia", "Kenji", "Lucia", "Mateo", "Nina", "Oscar", "Priya", "Sofia",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Muller", "Garcia", "Rossi", "Novak", "Kowalski", "Johnson", "Schmidt", "Martin", "Silva", "Jensen",
    "Nielsen", "Dubois", "Fischer", "Weber", "Lopez", "Brown", "Wilson", "Tanaka", "Kim", "Nguyen", "Costa", "Meyer",
    "Hansen", "Popescu", "Horvat", "Murphy", "Walsh", "Becker", "Moreau", "Ferrari", "Santos", "Wagner", "Berg",
)  # fmt: skip
# (city, lat, lng); earlier cities are drawn more often.
CITIES = (
    ("Berlin", 52.5200, 13.4050), ("London", 51.5074, -0.1278), ("Paris", 48.8566, 2.3522),
    ("New York", 40.7128, -74.0060), ("Madrid", 40.4168, -3.7038), ("Amsterdam", 52.3676, 4.9041),
    ("Munich", 48.1351, 11.5820), ("Hamburg", 53.5511, 9.9937), ("Vienna", 48.2082, 16.3738),
    ("Warsaw", 52.2297, 21.0122), ("Prague", 50.0755, 14.4378), ("Barcelona", 41.3874, 2.1686),
    ("Rome", 41.9028, 12.4964), ("Milan", 45.4642, 9.1900), ("Lisbon", 38.7223, -9.1393),
    ("Stockholm", 59.3293, 18.0686), ("Copenhagen", 55.6761, 12.5683), ("Dublin", 53.3498, -6.2603),
    ("Zurich", 47.3769, 8.5417), ("Brussels", 50.8503, 4.3517), ("Los Angeles", 34.0522, -118.2437),
    ("Chicago", 41.8781, -87.6298), ("Toronto", 43.6532, -79.3832), ("San Francisco", 37.7749, -122.4194),
    ("Austin", 30.2672, -97.7431), ("Mexico City", 19.4326, -99.1332), ("Sao Paulo", -23.5505, -46.6333),
    ("Sydney", -33.8688, 151.2093), ("Tokyo", 35.6762, 139.6503), ("Singapore", 1.3521, 103.8198),
    ("Cape Town", -33.9249, 18.4241),
)  # fmt: skip
DEMO_CITY = ("Berlin", 52.5163, 13.3777)
OPENINGS = (1, 2, 3, 4, 5, 8, 10, 15, 20)
OPENINGS_WEIGHTS = (62, 14, 9, 5, 4, 3, 1.5, 1, 0.5)
# Jobs the demo client owns, by (status, escrow_status), so each of its screens has something to show.
DEMO_CLIENT_JOBS = {
    (JobStatus.open, EscrowStatus.none): 3,
    (JobStatus.open, EscrowStatus.held): 1,
    (JobStatus.in_progress, EscrowStatus.held): 2,
    (JobStatus.completed, EscrowStatus.released): 4,
    (JobStatus.cancelled, EscrowStatus.refunded): 1,
}
