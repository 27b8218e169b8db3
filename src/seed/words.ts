// Fixed word lists: part of the output's definition. Changing them changes every seed's rows,
// which is why they live here and not in a faker-style library that updates its data.

export const FIRST_NAMES = [
  'Ada', 'Alan', 'Amara', 'Ana', 'Ben', 'Bruno', 'Chen', 'Chloe', 'Dara', 'David', 'Elena', 'Emeka',
  'Eva', 'Farah', 'Felix', 'Grace', 'Hana', 'Hugo', 'Ines', 'Ivan', 'Jonas', 'Julia', 'Kai', 'Kofi',
  'Lara', 'Leo', 'Lina', 'Luca', 'Maya', 'Mateo', 'Mei', 'Nadia', 'Niko', 'Noor', 'Omar', 'Olga',
  'Paula', 'Priya', 'Quinn', 'Rafael', 'Rosa', 'Sami', 'Sara', 'Soren', 'Tariq', 'Tess', 'Uma', 'Victor',
  'Wen', 'Xavier', 'Yara', 'Yusuf', 'Zoe', 'Zain',
] as const

export const LAST_NAMES = [
  'Abara', 'Berg', 'Castillo', 'Dubois', 'Eriksen', 'Fischer', 'Garcia', 'Haddad', 'Ito', 'Jensen',
  'Kowalski', 'Lindqvist', 'Mensah', 'Nakamura', 'Okafor', 'Petrov', 'Quispe', 'Rossi', 'Schmidt',
  'Tanaka', 'Ueda', 'Varga', 'Weber', 'Xu', 'Yilmaz', 'Zhang', "O'Neill", 'Müller', 'Nguyen', 'Silva',
] as const

export const CATEGORY_NAMES = [
  'Work', 'Home', 'Errands', 'Health', 'Finance', 'Family', 'Shopping', 'Travel', 'Learning', 'Garden',
  'Car', 'Fitness', 'Reading', 'Side project', 'Admin', 'Friends', 'Kids', 'Pets', 'Music', 'Cooking',
] as const

export const COLORS = [
  '#E53935', '#D81B60', '#8E24AA', '#5E35B1', '#3949AB', '#1E88E5', '#039BE5', '#00ACC1', '#00897B',
  '#43A047', '#7CB342', '#C0CA33', '#FDD835', '#FFB300', '#FB8C00', '#F4511E', '#6D4C41', '#757575',
] as const

export const VERBS = [
  'Call', 'Email', 'Buy', 'Fix', 'Review', 'Write', 'Plan', 'Book', 'Clean', 'Update', 'Renew', 'Pay',
  'Schedule', 'Return', 'Prepare', 'Order', 'Check', 'Organise', 'Send', 'Read', 'Sort out', 'Cancel',
] as const

export const OBJECTS = [
  'the dentist', 'the landlord', 'groceries', 'the leaking tap', 'the quarterly report', 'a birthday card',
  'the team offsite', 'train tickets', 'the garage', 'the project roadmap', 'the passport', 'the electricity bill',
  'a haircut', 'the library books', 'slides for Monday', 'new running shoes', 'the insurance claim',
  'the bike', 'the pull request', 'the newsletter', 'the tax return', 'the gym membership', 'the flat viewing',
  'the plumber', 'holiday photos', 'the budget spreadsheet', 'the onboarding doc', 'the recycling',
] as const

export const QUALIFIERS = [
  '', '', '', '', 'before Friday', 'this week', 'today', 'for Mum', 'again', 'with Sam', 'after lunch',
  'first thing tomorrow', 'if it rains', '(urgent)', 'for the trip',
] as const

export const SENTENCES = [
  'Check the details before confirming.',
  'Ask whether the price includes delivery.',
  'Keep the receipt in the shared folder.',
  'The last attempt failed because the form timed out.',
  'Needs a second pair of eyes.',
  'Compare at least three options.',
  'Bring the reference number.',
  'Remember the deadline moved twice already.',
  'Low effort, but easy to forget.',
  'Blocked until the quote arrives.',
  'Split into smaller steps if it drags on.',
  'Notes from the last call are in the doc.',
  'Use the new template this time.',
  'Ping the group chat when done.',
] as const
