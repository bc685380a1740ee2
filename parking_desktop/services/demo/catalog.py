"""Names, places and prices the demo data set draws from (see demo.py)."""

from __future__ import annotations

FIRST_NAMES = (
    "Emma", "Louis", "Jade", "Gabriel", "Louise", "Raphael", "Alice", "Arthur", "Chloe", "Jules",
    "Lina", "Adam", "Rose", "Hugo", "Anna", "Leo", "Mia", "Lucas", "Julia", "Nathan",
    "Zoe", "Ethan", "Lea", "Noah", "Manon", "Paul", "Ines", "Tom", "Sarah", "Victor",
    "Camille", "Sacha", "Clara", "Theo", "Eva", "Nolan", "Agathe", "Maxime", "Lucie", "Samuel",
    "Nina", "Oscar", "Olivia", "Martin", "Sofia", "Yanis", "Elena", "Marius", "Amir", "Grace",
)
LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "Andre", "Mercier", "Dupont", "Lambert", "Bonnet",
    "Francois", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guerin",
    "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu", "Clement", "Gauthier",
    "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin", "Masson",
)
MAIL_DOMAINS = ("example.com", "example.org", "example.net")  # reserved: no real mailbox

# (name, address, pin code, price per hour in cents, relative size)
LOT_SITES = (
    ("City Center", "12 Rue de Rivoli, 75001 Paris", "75001", 350, 1.6),
    ("Central Station", "1 Place de la Gare, 75010 Paris", "75010", 300, 2.2),
    ("Airport Long Stay", "Terminal 2 Road, 95700 Roissy", "95700", 180, 3.0),
    ("Old Town", "4 Rue du Chateau, 75004 Paris", "75004", 400, 0.6),
    ("Riverside", "28 Quai de la Seine, 75019 Paris", "75019", 220, 1.0),
    ("University Campus", "5 Avenue des Sciences, 91190 Gif", "91190", 120, 1.3),
    ("General Hospital", "47 Boulevard de l'Hopital, 75013 Paris", "75013", 250, 1.1),
    ("Shopping Mall", "2 Avenue du Commerce, 92100 Boulogne", "92100", 200, 2.0),
    ("Harbour Front", "9 Quai des Docks, 76600 Le Havre", "76600", 160, 0.9),
    ("Stadium North", "3 Rue du Stade, 93200 Saint-Denis", "93200", 280, 1.8),
    ("Business Park", "100 Avenue de l'Industrie, 92400 Courbevoie", "92400", 320, 1.4),
    ("Market Square", "7 Place du Marche, 78000 Versailles", "78000", 150, 0.5),
    ("Opera", "8 Rue Auber, 75009 Paris", "75009", 450, 0.7),
    ("Tech Hub", "21 Rue de l'Innovation, 75013 Paris", "75013B", 290, 1.0),
    ("Lakeside", "15 Chemin du Lac, 74000 Annecy", "74000", 170, 0.8),
    ("Exhibition Centre", "1 Place de la Porte, 75015 Paris", "75015", 260, 2.4),
    ("Town Hall", "3 Place de l'Hotel de Ville, 69001 Lyon", "69001", 210, 0.6),
    ("Beach Promenade", "40 Promenade des Anglais, 06000 Nice", "06000", 300, 1.2),
    ("Cathedral", "2 Parvis Notre-Dame, 67000 Strasbourg", "67000", 230, 0.7),
    ("Science Park", "12 Rue Ampere, 38000 Grenoble", "38000", 140, 1.1),
)

PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTVWXYZ"  # no I, O, U, as on French plates
