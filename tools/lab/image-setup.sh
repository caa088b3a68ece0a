#!/bin/sh
# Runs inside the freshly bootstrapped lab root file system (chroot) before it
# is imported as an image. Keeps the image small and free of host state.
set -e
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
rm -rf /usr/share/doc/* /usr/share/man/* /usr/share/info/*
# No service may start by itself inside a lab container.
rm -f /etc/init.d/coturn /etc/default/coturn
mkdir -p /usr/local/share/ca-certificates /var/log /run
: > /etc/resolv.conf
echo dlegate-lab > /etc/hostname
