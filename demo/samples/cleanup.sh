#!/bin/sh
# demo: a harmless script staged in /dev/shm by a deploy job
rm -f /tmp/deploy-*.lock
