package personalities

// MaxConcurrentQueries is maxConcurrentQueries, for tests.
const MaxConcurrentQueries = maxConcurrentQueries
