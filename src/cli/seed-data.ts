/** The demo catalog's vocabulary: a three-level category tree and the words product names are built from. */

export interface CategorySeed {
  name: string;
  children?: CategorySeed[];
  /** Leaf categories name the kind of thing they hold, used as the last word of a product name. */
  nouns?: string[];
}

const leaf = (name: string, ...nouns: string[]): CategorySeed => ({ name, nouns });

export const CATEGORY_TREE: CategorySeed[] = [
  {
    name: 'Electronics',
    children: [
      {
        name: 'Audio',
        children: [leaf('Headphones', 'Headphones', 'Earbuds'), leaf('Speakers', 'Speaker', 'Soundbar')],
      },
      {
        name: 'Computers',
        children: [
          leaf('Laptops', 'Laptop', 'Ultrabook'),
          leaf('Accessories', 'Keyboard', 'Mouse', 'USB Hub'),
        ],
      },
      {
        name: 'Cameras',
        children: [leaf('Action Cameras', 'Action Camera'), leaf('Lenses', 'Prime Lens', 'Zoom Lens')],
      },
    ],
  },
  {
    name: 'Home & Kitchen',
    children: [
      {
        name: 'Cookware',
        children: [leaf('Pans', 'Frying Pan', 'Skillet', 'Wok'), leaf('Pots', 'Stock Pot', 'Dutch Oven')],
      },
      {
        name: 'Furniture',
        children: [leaf('Chairs', 'Chair', 'Stool'), leaf('Tables', 'Coffee Table', 'Desk')],
      },
      {
        name: 'Lighting',
        children: [leaf('Lamps', 'Desk Lamp', 'Floor Lamp'), leaf('Bulbs', 'LED Bulb', 'Smart Bulb')],
      },
    ],
  },
  {
    name: 'Fashion',
    children: [
      { name: 'Men', children: [leaf('Jackets', 'Jacket', 'Parka'), leaf('Shoes', 'Sneakers', 'Boots')] },
      { name: 'Women', children: [leaf('Dresses', 'Dress', 'Skirt'), leaf('Bags', 'Tote Bag', 'Backpack')] },
      { name: 'Accessories', children: [leaf('Watches', 'Watch'), leaf('Sunglasses', 'Sunglasses')] },
    ],
  },
  {
    name: 'Sports & Outdoors',
    children: [
      {
        name: 'Camping',
        children: [leaf('Tents', 'Tent', 'Shelter'), leaf('Sleeping Bags', 'Sleeping Bag')],
      },
      {
        name: 'Fitness',
        children: [leaf('Weights', 'Dumbbell', 'Kettlebell'), leaf('Yoga', 'Yoga Mat', 'Foam Roller')],
      },
      { name: 'Cycling', children: [leaf('Helmets', 'Helmet'), leaf('Bike Lights', 'Bike Light')] },
    ],
  },
  {
    name: 'Books',
    children: [
      {
        name: 'Fiction',
        children: [leaf('Mystery', 'Mystery Novel'), leaf('Science Fiction', 'Space Opera', 'Novel')],
      },
      {
        name: 'Non-fiction',
        children: [leaf('Cooking', 'Cookbook'), leaf('History', 'History Book', 'Biography')],
      },
    ],
  },
  {
    name: 'Toys & Games',
    children: [
      {
        name: 'Board Games',
        children: [leaf('Strategy', 'Strategy Game'), leaf('Party', 'Party Game', 'Card Game')],
      },
      { name: 'Building', children: [leaf('Blocks', 'Block Set'), leaf('Models', 'Model Kit')] },
    ],
  },
  {
    name: 'Garden',
    children: [
      {
        name: 'Tools',
        children: [
          leaf('Hand Tools', 'Trowel', 'Pruner'),
          leaf('Power Tools', 'Hedge Trimmer', 'Leaf Blower'),
        ],
      },
      { name: 'Plants', children: [leaf('Seeds', 'Seed Pack'), leaf('Planters', 'Planter', 'Raised Bed')] },
    ],
  },
];

export const ADJECTIVES = [
  'Aurora',
  'Summit',
  'Nordic',
  'Classic',
  'Urban',
  'Everyday',
  'Pro',
  'Compact',
  'Deluxe',
  'Vintage',
  'Coastal',
  'Alpine',
  'Midnight',
  'Solar',
  'Granite',
  'Velvet',
  'Swift',
  'Lumen',
  'Harbor',
  'Cedar',
  'Atlas',
  'Nimbus',
  'Ember',
  'Willow',
  'Orbit',
  'Pioneer',
  'Zenith',
  'Maple',
  'Cobalt',
  'Juniper',
];

export const MATERIALS = [
  'Wireless',
  'Stainless',
  'Bamboo',
  'Leather',
  'Carbon',
  'Ceramic',
  'Cotton',
  'Aluminium',
  'Recycled',
  'Oak',
  'Titanium',
  'Wool',
  'Glass',
  'Copper',
  'Linen',
  'Walnut',
  'Graphite',
  'Silicone',
  'Canvas',
  'Marble',
];

export const FEATURES = [
  'built to last for years of daily use',
  'designed with a focus on comfort and simplicity',
  'tested by our team in real conditions',
  'made from responsibly sourced materials',
  'easy to clean and simple to maintain',
  'light enough to take anywhere',
  'backed by a two-year warranty',
  'finished by hand in small batches',
  'chosen by thousands of happy customers',
  'packed in plastic-free, recyclable packaging',
];
