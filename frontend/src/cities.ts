// Places a person can type instead of coordinates (the API has no geocoder; the demo data uses these).
export const CITIES: Record<string, [number, number]> = {
  Berlin: [52.52, 13.405], London: [51.5074, -0.1278], Paris: [48.8566, 2.3522], "New York": [40.7128, -74.006],
  Madrid: [40.4168, -3.7038], Amsterdam: [52.3676, 4.9041], Munich: [48.1351, 11.582], Hamburg: [53.5511, 9.9937],
  Vienna: [48.2082, 16.3738], Warsaw: [52.2297, 21.0122], Prague: [50.0755, 14.4378], Barcelona: [41.3874, 2.1686],
  Rome: [41.9028, 12.4964], Milan: [45.4642, 9.19], Lisbon: [38.7223, -9.1393], Stockholm: [59.3293, 18.0686],
  Copenhagen: [55.6761, 12.5683], Dublin: [53.3498, -6.2603], Zurich: [47.3769, 8.5417], Brussels: [50.8503, 4.3517],
  "Los Angeles": [34.0522, -118.2437], Chicago: [41.8781, -87.6298], Toronto: [43.6532, -79.3832],
  "San Francisco": [37.7749, -122.4194], Austin: [30.2672, -97.7431], "Mexico City": [19.4326, -99.1332],
  "Sao Paulo": [-23.5505, -46.6333], Sydney: [-33.8688, 151.2093], Tokyo: [35.6762, 139.6503],
  Singapore: [1.3521, 103.8198], "Cape Town": [-33.9249, 18.4241],
};

export function cityCoordinates(name: string): [number, number] | undefined {
  const wanted = name.trim().toLowerCase();
  const found = Object.keys(CITIES).find((c) => c.toLowerCase() === wanted);
  return found ? CITIES[found] : undefined;
}
