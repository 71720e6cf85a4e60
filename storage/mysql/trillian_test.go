package mysql_test

import (
	"testing"

	tstorage "github.com/google/trillian/storage"

	"github.com/govlog/govlog/storage/mysql"
	"github.com/govlog/govlog/storage/mysql/mysqltest"
	"github.com/govlog/govlog/storage/storagetest"
)

func TestTrillianStorage(t *testing.T) {
	storagetest.TestTrillianStorage(t, func(t *testing.T) (tstorage.AdminStorage, tstorage.LogStorage) {
		return mysql.TrillianStorage(open(t, mysqltest.DSN(t)))
	})
}
